// Pixels of training and classification items: a whole image file, or a box of a slide read
// through the same readers as the viewer. Slides stay open for the job's lifetime.
import { decodeImage } from '../../slides/decodeImage';
import { openSlide } from '../../slides/slideOpener';
import { extractPatch } from '../../slides/patches';
import type { SlideReader } from '../../slides/types';
import type { PatchItem } from '../../shared/jobs';
import type { RgbImage } from '../../shared/image';

export class PatchSource {
  private readonly items = new Map<string, PatchItem>();
  private readonly slides = new Map<string, Promise<SlideReader>>();

  add(item: PatchItem): string {
    this.items.set(item.key, item);
    return item.key;
  }

  readonly read = async (key: string): Promise<RgbImage> => {
    const item = this.items.get(key);
    if (!item) throw new Error(`unknown item ${key}`);
    return this.readItem(item);
  };

  /** The pixels of an item not added (batch classification hands items straight to its threads). */
  readonly readItem = async (item: PatchItem): Promise<RgbImage> => {
    const key = item.key;
    try {
      if (!item.box) return await decodeImage(item.path);
      let reader = this.slides.get(item.path);
      if (!reader) {
        reader = openSlide(item.path);
        this.slides.set(item.path, reader);
      }
      return await extractPatch(await reader, { box: item.box });
    } catch (err) {
      // Name the label (keys are a<annotationId>) so the user knows which one to fix.
      const what = /^a\d+$/.test(key) ? `label ${key.slice(1)}` : `item ${key}`;
      throw Object.assign(new Error(`${what} (${item.path}): ${(err as Error).message}`), { kind: 'invalid-input' });
    }
  };

  async close(): Promise<void> {
    for (const reader of this.slides.values()) (await reader.catch(() => null))?.close();
    this.slides.clear();
  }
}
