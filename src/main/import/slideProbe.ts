// Size, microns per pixel and a thumbnail of a whole-slide file, for import, read through
// the same reader the viewer uses (OpenSlide, or sharp where OpenSlide is missing).
import { openSlide } from '../../slides/slideOpener';
import { slideThumbnail } from '../../slides/patches';
import { fromRgb } from '../../slides/sharpRgb';

export interface SlideDescription {
  width: number;
  height: number;
  mpp: number | null;
  thumbnail: Buffer;
}

export async function describeSlide(path: string, thumbnailSize: number): Promise<SlideDescription> {
  const reader = await openSlide(path);
  try {
    const [width, height] = reader.dimensions;
    const thumb = await slideThumbnail(reader, thumbnailSize);
    const thumbnail = await fromRgb(thumb).jpeg({ quality: 80 }).toBuffer();
    return { width, height, mpp: reader.mpp ? (reader.mpp.x + reader.mpp.y) / 2 : null, thumbnail };
  } finally {
    reader.close();
  }
}
