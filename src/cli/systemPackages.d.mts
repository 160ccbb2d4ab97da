// Types of systemPackages.mjs (plain JavaScript so that npm test and .ci/run need no build).
export interface SystemPackage {
  name: string;
  need: 'product' | 'tests';
  provides: string;
  tests: string[];
  purpose: string;
}
export function systemPackages(): SystemPackage[];
export function missingPackages(names?: string[]): string[];
export function canInstall(): boolean;
export function installCommand(names: string[]): string;
export function install(names: string[]): void;
