import type { SimulatorState } from './state';

/** What every area of the simulator (Graph, token endpoint, admin API) shares. */
export interface SimContext {
  readonly state: SimulatorState;
  /** The host it listens on (as given, e.g. 0.0.0.0). */
  readonly host: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PEM of the HTTPS side's certificate (served by the admin API as `/__sim/ca`). */
  readonly tlsCertificate: string;
  /** http(s)://host:port, known once listening (requests only arrive after that). */
  origin: string;
  port: number;
  /** Seeds the demo tenant's jobs, or nothing. */
  seed(kind: 'demo' | 'empty'): void;
}
