// A detected cell's thumbnail: the patch a label on it would hold, cut by the main process.
export function cellUrl(cellId: number): string {
  return window.cytotune ? `cytotune://cells/${cellId}.jpg` : `/cells/${cellId}.jpg`;
}
