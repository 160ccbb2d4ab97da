// The last line of defence of a long-running CytoTune process (browser-mode server, Electron's
// main process): an error nobody caught is logged and the process keeps serving. Expected
// failures are values long before this (a full disk fails the job that met it; see
// jobs/jobManager.ts); what reaches here is a bug, and one bug must not take down a lab's
// workstation with every open label and run in it. The database needs no cleanup: every
// change is one transaction, committed whole or not at all.

export type GuardLog = (line: string) => void;

const describe = (value: unknown): string => (value instanceof Error ? (value.stack ?? value.message) : String(value));

/** Installs the handlers once per process; returns how to remove them (tests). */
export function installProcessGuard(log: GuardLog = (line) => process.stderr.write(`${line}\n`)): () => void {
  const onError = (err: unknown) => log(`[cytotune] uncaught error (CytoTune keeps running): ${describe(err)}`);
  const onRejection = (reason: unknown) => log(`[cytotune] unhandled rejection (CytoTune keeps running): ${describe(reason)}`);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onRejection);
  };
}
