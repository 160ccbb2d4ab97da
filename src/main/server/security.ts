// The Content-Security-Policy of the UI, the same in Electron and browser mode: only our
// own scripts, no eval, no remote anything. Tiles and thumbnails are images from 'self'
// (or the cytotune: protocol in Electron); inline styles are allowed for React's style props.
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: cytotune:",
  "connect-src 'self' cytotune:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');
