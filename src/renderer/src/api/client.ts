// The renderer's one API client. In Electron the preload exposes `window.cytotune`; in
// browser mode we talk HTTP/WebSocket to the server that served this page. Components
// never know which.
import type { ApiClient } from '@shared/api';
import { createHttpClient } from '@shared/httpClient';

declare global {
  interface Window {
    cytotune?: ApiClient & { adapter: 'electron' };
  }
}

export const client: ApiClient = window.cytotune ?? createHttpClient({ baseUrl: window.location.origin });

/** URL of an image's thumbnail in either adapter. */
export function thumbnailUrl(imageId: number): string {
  return window.cytotune ? `cytotune://thumbnails/${imageId}.jpg` : `/thumbnails/${imageId}.jpg`;
}

/**
 * Deep Zoom descriptor of an image, served by id (never by path). The native layout: where the
 * slide's own JPEG tiles fit the Deep Zoom grid they are sent as stored (no decode, no encode,
 * faster than `vips dzsave` cold, bench/tiles.ts); elsewhere it is the default layout.
 */
export function tileSourceUrl(imageId: number): string {
  return window.cytotune ? `cytotune://slides/${imageId}.native.dzi` : `/slides/${imageId}.native.dzi`;
}

/** A labelled patch cut from its image by the main process. */
export function patchUrl(annotationId: number): string {
  return window.cytotune ? `cytotune://patches/${annotationId}.jpg` : `/patches/${annotationId}.jpg`;
}

/** A figure an experiment job wrote (only the names it reported are served). */
export function experimentFigureUrl(jobId: number, name: string): string {
  return window.cytotune ? `cytotune://experiments/${jobId}/${name}` : `/experiments/${jobId}/${name}`;
}
