// Nucleus detection without model weights: the public surface of src/slides/cells.
export { DETECTOR_VERSION, PAP_LBC_PRESET, HE_HISTOLOGY_PRESET, PRESETS, checkParams, toPixelParams } from './params';
export type { DetectionParams, PixelParams, PresetName, ParamsCheck, PixelCheck } from './params';
export { detectCells } from './detectCells';
export type { DetectCellsOptions, DetectCellsResult, DetectionProgress } from './detectCells';
export { previewRegion } from './preview';
export type { PreviewOptions, PreviewResult } from './preview';
export { detectInImage, detectPlanes } from './detectImage';
export { matchDetections } from './match';
export type { MatchResult, TrueCell } from './match';
export { memoryRegionSource } from './memorySource';
export { STAIN_VECTORS, estimateWhite, haematoxylinLuts, odSumLuts, channelLuts, stainMatrix } from './stains';
export type { Rgb3, StainName, DetectionChannel } from './stains';
export { CellDetectionError, sizeOf } from './types';
export type { CellDetection, CellDetectionErrorKind, DetectionCheckpoint, Mpp, RegionSource, RgbImage, SizeLike } from './types';
