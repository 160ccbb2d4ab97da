import { ApiError, type ApiClient } from '../../shared/api';
import type { Workspace } from './workspace';

/** The API client without any transport: used by headless commands and the contract tests. */
export function createInProcessClient(workspace: Workspace): ApiClient {
  return {
    async call(channel, input) {
      // A JSON round trip, as every real adapter does, so in-process tests cannot rely on shared objects.
      const result = await workspace.handle(channel, JSON.parse(JSON.stringify(input ?? {})));
      if (!result.ok) throw new ApiError(result.error.kind, result.error.message);
      return JSON.parse(JSON.stringify(result.value));
    },
    on(event, listener) {
      return workspace.on(event, listener);
    },
  };
}
