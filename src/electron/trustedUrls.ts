// Which URLs the window may show and accept IPC from: our built renderer, or the dev server.

export function rendererEntryUrl(devServerUrl: string | undefined, builtIndexUrl: string): string {
  return devServerUrl && !process.env.CYTOTUNE_PACKAGED ? devServerUrl : builtIndexUrl;
}

export function isTrustedRendererUrl(url: string, devServerUrl: string | undefined): boolean {
  if (devServerUrl && url.startsWith(devServerUrl)) return true;
  return url.startsWith('file://') && url.includes('/renderer/index.html');
}
