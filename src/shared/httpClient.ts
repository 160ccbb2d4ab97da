// The API client over HTTP + WebSocket (browser mode, and tests of the server). Calls are
// POST /api/<channel>; events arrive on /events. Errors come back as ApiError with a kind.
import { ApiError, type ApiClient, type ApiResult, type Channel, type EventName, type Events, type Input, type Output } from './api';

/** The subset of the WebSocket API we use (browser WebSocket and the `ws` package both fit). */
interface SocketLike {
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onopen: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}
type SocketFactory = (url: string) => SocketLike;

export interface HttpClientOptions {
  /** e.g. http://127.0.0.1:5173 */
  baseUrl: string;
  /** Sent as a header; browsers rely on the session cookie instead. */
  token?: string;
  openSocket?: SocketFactory;
}

export interface HttpApiClient extends ApiClient {
  /** Resolves once the event stream is connected (tests wait on it before acting). */
  eventsReady(): Promise<void>;
  close(): void;
}

export function createHttpClient(options: HttpClientOptions): HttpApiClient {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let socket: SocketLike | null = null;
  let ready: Promise<void> | null = null;
  let closed = false;

  const openSocket: SocketFactory = options.openSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);

  function connect(): Promise<void> {
    if (ready) return ready;
    const wsUrl = options.baseUrl.replace(/^http/, 'ws') + '/events' + (options.token ? `?token=${encodeURIComponent(options.token)}` : '');
    ready = new Promise<void>((resolveReady) => {
      const ws = openSocket(wsUrl);
      socket = ws;
      ws.onopen = () => resolveReady();
      // A refused reconnect (the server is restarting) is followed by close, which tries again;
      // without a handler the `ws` package would throw it as an uncaught error.
      ws.onerror = () => {};
      ws.onmessage = (ev) => {
        const { event, payload } = JSON.parse(String(ev.data)) as { event: EventName; payload: unknown };
        listeners.get(event)?.forEach((fn) => fn(payload));
      };
      ws.onclose = () => {
        socket = null;
        ready = null;
        // Reconnect after a server restart or a dropped connection, while anyone listens.
        if (!closed && listeners.size > 0) setTimeout(() => void connect(), 1000);
      };
    });
    return ready;
  }

  return {
    async call<C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> {
      let response: Response;
      try {
        response = await fetch(`${options.baseUrl}/api/${channel}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(options.token ? { 'x-cytotune-token': options.token } : {}) },
          body: JSON.stringify(input ?? {}),
          credentials: 'same-origin',
        });
      } catch (err) {
        throw new ApiError('io', `CytoTune's server is not reachable (${(err as Error).message}). Is \`cytotune serve\` still running?`);
      }
      if (response.status === 401 || response.status === 403) {
        throw new ApiError('invalid-input', `The server refused the request (${response.status}): ${await response.text()}`);
      }
      const result = (await response.json()) as ApiResult<Output<C>>;
      if (!result.ok) throw new ApiError(result.error.kind, result.error.message);
      return result.value;
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: unknown) => void);
      listeners.set(event, set);
      void connect();
      return () => {
        set.delete(listener as (payload: unknown) => void);
        if (set.size === 0) listeners.delete(event);
      };
    },
    eventsReady: () => connect(),
    close() {
      closed = true;
      socket?.close();
    },
  };
}
