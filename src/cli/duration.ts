// The one duration formatter of the command line (ETAs, budgets): "45s", "1m05s", "2h03m".
// Rounds once, before splitting into units, so 59.6 s reads "1m00s" and never "60s" or "1m60s".

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?';
  const pad = (n: number) => String(n).padStart(2, '0');
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  // Past an hour, seconds are noise: round to minutes (again once, so never "1h60m").
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)}h${pad(m % 60)}m`;
}
