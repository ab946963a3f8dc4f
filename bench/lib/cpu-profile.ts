import { readFileSync } from 'node:fs';

/** Summary of a V8 .cpuprofile (node --cpu-prof): self time by function and by where the code lives. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy time: everything but (idle). */
  busyMs: number;
  topFunctions: ProfileEntry[];
  byArea: ProfileEntry[];
  /**
   * Inclusive time by area: busy time with at least one frame of the area on the stack (what the area and
   * everything it calls cost). Areas nest, so the shares add up to more than 100 %.
   */
  byAreaInclusive?: ProfileEntry[];
}

/** `node_modules/<pkg>` (scoped packages included), our own folders, node internals, or V8 pseudo-frames. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) {
    return 'node internals';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) {
    return nm[1] ?? url;
  }
  const ours = /\/(apps\/[^/]+\/src\/[^/]+|libs\/[^/]+\/src)/.exec(url);
  if (ours) {
    return ours[1] ?? url;
  }
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string, line: number): string {
  if (url === '') {
    return '';
  }
  const nm = url.lastIndexOf('node_modules/');
  const tail = nm >= 0 ? url.slice(nm + 'node_modules/'.length) : url.replace(/^.*\/(apps|libs)\//, '$1/');
  return `${tail.replace(/^file:\/\//, '')}:${line + 1}`;
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
  }
  const self = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample: it belongs to sample i - 1.
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const fn = new Map<string, ProfileEntry>();
  const area = new Map<string, ProfileEntry>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) {
      continue;
    }
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
    }
    const name = functionName || '(anonymous)';
    const where = shortUrl(url, lineNumber);
    const k = `${name}@${where}`;
    const e = fn.get(k) ?? { name, where, selfMs: 0, share: 0 };
    e.selfMs += us / 1000;
    fn.set(k, e);
    const a = areaOf(url, functionName);
    const ae = area.get(a) ?? { name: a, where: '', selfMs: 0, share: 0 };
    ae.selfMs += us / 1000;
    area.set(a, ae);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  // Inclusive: each sample counts once for every area on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    for (const c of n.children ?? []) {
      parent.set(c, n.id);
    }
  }
  const areasOnStack = new Map<number, Set<string>>();
  const stackAreas = (id: number): Set<string> => {
    const known = areasOnStack.get(id);
    if (known) {
      return known;
    }
    const node = byId.get(id);
    const up = parent.get(id);
    const set = new Set(up === undefined ? [] : stackAreas(up));
    if (node && node.callFrame.url !== '') {
      set.add(areaOf(node.callFrame.url, node.callFrame.functionName));
    }
    areasOnStack.set(id, set);
    return set;
  };
  const inclusive = new Map<string, ProfileEntry>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') {
      continue;
    }
    for (const a of stackAreas(id)) {
      const e = inclusive.get(a) ?? { name: a, where: '', selfMs: 0, share: 0 };
      e.selfMs += us / 1000;
      inclusive.set(a, e);
    }
  }
  const finish = (m: Map<string, ProfileEntry>): ProfileEntry[] =>
    [...m.values()]
      .filter((e) => e.name !== '(idle)')
      .map((e) => ({ ...e, selfMs: Math.round(e.selfMs), share: busyMs > 0 ? e.selfMs / busyMs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyMs),
    topFunctions: finish(fn).slice(0, top),
    byArea: finish(area).slice(0, top),
    byAreaInclusive: finish(inclusive).slice(0, top),
  };
}
