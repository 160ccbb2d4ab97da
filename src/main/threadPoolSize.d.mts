// Types of threadPoolSize.mjs (plain JavaScript so that bin/ and scripts/ use it unbuilt).
export function threadPoolSize(env?: Record<string, string | undefined>, cores?: number): string | null;
export function ensureThreadPoolSize(env?: Record<string, string | undefined>): number;
