// koffi binding of the OpenSlide C API (Debian's libopenslide.so.0, 3.4.1; the 4.x ABI is the
// same for these calls). Loaded once, lazily; a missing library is a value, not a throw, so
// callers fall back to the sharp reader.
import koffi, { type LibraryHandle } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;

/** Opaque openslide_t* (koffi 3 represents pointers as BigInt). */
export type OsrPointer = bigint;

export interface OpenSlideLib {
  version: string;
  libraryPath: string;
  open(path: string): OsrPointer | null;
  /** openslide_open on a worker thread (opening MRXS/NDPI can take a while). */
  openAsync(path: string): Promise<OsrPointer | null>;
  detectVendor(path: string): string | null;
  close(osr: OsrPointer): void;
  getError(osr: OsrPointer): string | null;
  getLevelCount(osr: OsrPointer): number;
  getLevelDimensions(osr: OsrPointer, level: number): [number, number];
  getLevelDownsample(osr: OsrPointer, level: number): number;
  getPropertyNames(osr: OsrPointer): string[];
  getPropertyValue(osr: OsrPointer, name: string): string | null;
  getAssociatedImageNames(osr: OsrPointer): string[];
  getAssociatedImageDimensions(osr: OsrPointer, name: string): [number, number];
  /** Premultiplied ARGB (native-endian uint32, so B,G,R,A bytes on little-endian) into dest. */
  readRegionAsync(osr: OsrPointer, dest: Uint8Array, x: number, y: number, level: number, w: number, h: number): Promise<void>;
  readRegionSync(osr: OsrPointer, dest: Uint8Array, x: number, y: number, level: number, w: number, h: number): void;
  readAssociatedImageAsync(osr: OsrPointer, name: string, dest: Uint8Array): Promise<void>;
}

export type OpenSlideLoad = { ok: true; lib: OpenSlideLib } | { ok: false; kind: 'openslide-unavailable'; message: string };

const CANDIDATES = [
  'libopenslide.so.1',
  'libopenslide.so.0',
  'libopenslide.so',
  'libopenslide.1.dylib',
  'libopenslide.0.dylib',
  'libopenslide-1.dll',
  'libopenslide-0.dll',
];

let cached: OpenSlideLoad | undefined;

/** Load libopenslide once. CYTOTUNE_OPENSLIDE=off disables it (tests of the fallback), =<path> picks a file. */
export function loadOpenSlide(): OpenSlideLoad {
  if (cached) return cached;
  const env = process.env.CYTOTUNE_OPENSLIDE;
  if (env === 'off' || env === '0') {
    return (cached = { ok: false, kind: 'openslide-unavailable', message: 'OpenSlide disabled by CYTOTUNE_OPENSLIDE=off' });
  }
  raiseAsyncStack();
  const errors: string[] = [];
  for (const name of env ? [env] : CANDIDATES) {
    try {
      return (cached = { ok: true, lib: bind(koffi.load(name), name) });
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return (cached = {
    ok: false,
    kind: 'openslide-unavailable',
    message: `OpenSlide library not found (install libopenslide0): ${errors[errors.length - 1] ?? 'no candidates'}`,
  });
}

/**
 * koffi runs native code on its own stack blocks (x64: `leaq 128(%rsi), %rsp` in its trampoline),
 * 128 KiB by default for async calls: too tight for OpenSlide's decoders (libjpeg, openjpeg,
 * libtiff, cairo). Give async calls the 2 MiB sync calls get. koffi only accepts this before the
 * first library is loaded in the process; if someone loaded one earlier we keep the default.
 */
function raiseAsyncStack(): void {
  try {
    const cfg = koffi.config() as { async_stack_size: number };
    if (cfg.async_stack_size < ASYNC_STACK) koffi.config({ ...cfg, async_stack_size: ASYNC_STACK });
  } catch {
    // Another module already loaded a library through koffi; reads still work on typical slides.
  }
}

const ASYNC_STACK = 2 * 1024 * 1024;
const MAX_NATIVE_CALLS = 32;

/** For tests: forget the memoised result so CYTOTUNE_OPENSLIDE is read again. */
export function resetOpenSlideForTests(): void {
  cached = undefined;
}

/** NULL-terminated `const char * const *` to strings (pointers are 8 bytes on the 64-bit platforms we ship). */
function stringList(ptr: unknown): string[] {
  const out: string[] = [];
  if (!ptr) return out;
  for (let i = 0; i < 100_000; i++) {
    const p = koffi.decode(ptr, i * koffi.sizeof('void *'), 'void *');
    if (!p) break;
    out.push(koffi.decode(p, 'char', -1) as string);
  }
  return out;
}

function bind(lib: LibraryHandle, libraryPath: string): OpenSlideLib {
  // openslide_t* is declared void* so binding twice (tests reset the loader) defines no type twice.
  const f = {
    version: lib.func('const char *openslide_get_version(void)'),
    open: lib.func('void *openslide_open(const char *filename)'),
    detectVendor: lib.func('const char *openslide_detect_vendor(const char *filename)'),
    close: lib.func('void openslide_close(void *osr)'),
    getError: lib.func('const char *openslide_get_error(void *osr)'),
    levelCount: lib.func('int32_t openslide_get_level_count(void *osr)'),
    levelDims: lib.func('void openslide_get_level_dimensions(void *osr, int32_t level, _Out_ int64_t *w, _Out_ int64_t *h)'),
    levelDownsample: lib.func('double openslide_get_level_downsample(void *osr, int32_t level)'),
    propertyNames: lib.func('void *openslide_get_property_names(void *osr)'),
    propertyValue: lib.func('const char *openslide_get_property_value(void *osr, const char *name)'),
    assocNames: lib.func('void *openslide_get_associated_image_names(void *osr)'),
    assocDims: lib.func('void openslide_get_associated_image_dimensions(void *osr, const char *name, _Out_ int64_t *w, _Out_ int64_t *h)'),
    readRegion: lib.func('void openslide_read_region(void *osr, void *dest, int64_t x, int64_t y, int32_t level, int64_t w, int64_t h)'),
    readAssoc: lib.func('void openslide_read_associated_image(void *osr, const char *name, void *dest)'),
  };
  // koffi throws once more than max_async_calls (256) are queued: queue the excess here instead.
  let running = 0;
  const waiting: (() => void)[] = [];
  const asPromise = async (fn: KoffiFunction, ...args: unknown[]) => {
    if (running >= MAX_NATIVE_CALLS) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      await new Promise<void>((resolve, reject) => fn.async(...args, (err: unknown) => (err ? reject(err) : resolve())));
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
  const dims = (fn: KoffiFunction, osr: OsrPointer, arg: number | string): [number, number] => {
    const w = [0];
    const h = [0];
    fn(osr, arg, w, h);
    return [Number(w[0]), Number(h[0])];
  };
  return {
    version: f.version() as string,
    libraryPath,
    open: (path) => (f.open(path) as OsrPointer | null) || null,
    openAsync: (path) =>
      new Promise((resolve, reject) =>
        f.open.async(path, (err: unknown, osr: OsrPointer | null) => (err ? reject(err) : resolve(osr || null))),
      ),
    detectVendor: (path) => (f.detectVendor(path) as string | null) ?? null,
    close: (osr) => f.close(osr),
    getError: (osr) => (f.getError(osr) as string | null) ?? null,
    getLevelCount: (osr) => f.levelCount(osr) as number,
    getLevelDimensions: (osr, level) => dims(f.levelDims, osr, level),
    getLevelDownsample: (osr, level) => f.levelDownsample(osr, level) as number,
    getPropertyNames: (osr) => stringList(f.propertyNames(osr)),
    getPropertyValue: (osr, name) => (f.propertyValue(osr, name) as string | null) ?? null,
    getAssociatedImageNames: (osr) => stringList(f.assocNames(osr)),
    getAssociatedImageDimensions: (osr, name) => dims(f.assocDims, osr, name),
    readRegionAsync: (osr, dest, x, y, level, w, h) => asPromise(f.readRegion, osr, dest, x, y, level, w, h),
    readRegionSync: (osr, dest, x, y, level, w, h) => void f.readRegion(osr, dest, x, y, level, w, h),
    readAssociatedImageAsync: (osr, name, dest) => asPromise(f.readAssoc, osr, name, dest),
  };
}
