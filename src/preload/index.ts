// Exposes the API contract to the sandboxed renderer as `window.cytotune`, and nothing else:
// only channels and events named in the contract pass; no ipcRenderer, no Node.
import { contextBridge, ipcRenderer } from 'electron';
import { ApiError, isChannel, type ApiResult, type EventName } from '../shared/api';

const eventNames: EventName[] = ['import:progress', 'job:progress', 'project:changed'];

contextBridge.exposeInMainWorld('cytotune', {
  adapter: 'electron',
  async call(channel: string, input: unknown) {
    if (!isChannel(channel)) throw new ApiError('invalid-input', `Unknown API channel ${channel}`);
    const result = (await ipcRenderer.invoke('api:call', channel, input)) as ApiResult<unknown>;
    if (!result.ok) throw new ApiError(result.error.kind, result.error.message);
    return result.value;
  },
  on(event: EventName, listener: (payload: unknown) => void) {
    if (!eventNames.includes(event)) throw new Error(`Unknown event ${event}`);
    const handler = (_e: unknown, name: EventName, payload: unknown) => name === event && listener(payload);
    ipcRenderer.on('api:event', handler);
    return () => ipcRenderer.removeListener('api:event', handler);
  },
});
