import { useCallback, useEffect, useState } from 'react';
import type { Channel, EventName, Events, Input, Output } from '@shared/api';
import { client } from './client';

/**
 * Calls a channel on mount and whenever its input or `version` changes; returns the value,
 * the error and a reload. A null input skips the call (nothing to ask yet).
 */
export function useQuery<C extends Channel>(channel: C, input: Input<C> | null, version = 0) {
  const [value, setValue] = useState<Output<C> | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(input);
  useEffect(() => {
    if (key === 'null') return;
    let live = true;
    client.call(channel, JSON.parse(key) as Input<C>).then(
      (v) => live && (setValue(v), setError(null)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [channel, key, version, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { value, error, reload };
}

export function useEvent<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
  useEffect(() => client.on(event, listener), [event, listener]);
}
