// Slide reading and Deep Zoom tiles: the public surface for the app (HTTP route, Electron
// protocol, import, gallery, training data, export, CLI).
export { openSlide, openSlideAvailability, type OpenSlideOptions } from './slideOpener';
export { TileService, TileNotFoundError, type TileServiceOptions, type OpenedSlide, type TileServiceStats } from './tileService';
export { parseSlideRequest, serveSlideRequest, type SlideRequest, type SlideResponse } from './slideRoutes';
export { extractPatch, boxAroundCenter, patchThumbnail, slideThumbnail, encodeRgb, PatchError, type Box, type PatchSpec } from './patches';
export { runSlideInfo, describeSlide } from './slideInfoCommand';
export { loadOpenSlide } from './openslideLib';
export { SlideOpenError, SlideReadError, type SlideReader, type ReaderName, type Mpp, type RgbImage } from './types';
