import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';

/** Live updates: how often views refetch, and a pause. Kept per browser. */
export interface Live {
  intervalSeconds: number;
  paused: boolean;
  setIntervalSeconds(s: number): void;
  setPaused(p: boolean): void;
  /** What TanStack Query's refetchInterval should be. */
  refetchInterval: number | false;
}

export const LIVE_INTERVALS = [5, 15, 30, 60, 300];
const KEY = 'sjg.console.live';

const LiveContext = createContext<Live | null>(null);

export function LiveProvider(props: { children: ReactNode }) {
  const saved = (() => {
    try {
      return JSON.parse(localStorage.getItem(KEY) ?? '{}') as { i?: number; p?: boolean };
    } catch {
      return {};
    }
  })();
  const [intervalSeconds, setI] = useState(LIVE_INTERVALS.includes(saved.i ?? 0) ? (saved.i as number) : 15);
  const [paused, setP] = useState(saved.p === true);
  const value = useMemo<Live>(() => {
    const save = (i: number, p: boolean) => localStorage.setItem(KEY, JSON.stringify({ i, p }));
    return {
      intervalSeconds,
      paused,
      setIntervalSeconds: (s) => {
        save(s, paused);
        setI(s);
      },
      setPaused: (p) => {
        save(intervalSeconds, p);
        setP(p);
      },
      refetchInterval: paused ? false : intervalSeconds * 1000,
    };
  }, [intervalSeconds, paused]);
  return <LiveContext.Provider value={value}>{props.children}</LiveContext.Provider>;
}

export function useLive(): Live {
  const l = useContext(LiveContext);
  if (!l) {
    throw new Error('useLive outside LiveProvider');
  }
  return l;
}
