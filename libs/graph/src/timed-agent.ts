import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

/** Keep-alive agents that also bound the TCP connect, so "not sent" and "sent, answer lost" stay distinguishable. */

function armConnectTimeout(socket: Duplex | null | undefined, ms: number): void {
  if (!(socket instanceof net.Socket) || !socket.connecting || ms <= 0) {
    return;
  }
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error(`connect timeout after ${ms} ms`), { code: 'ECONNECT_TIMEOUT' }));
  }, ms);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
}

/** Arms the connect timeout on every socket the agent creates (its own createConnection, wrapped). */
function withConnectTimeout<A extends http.Agent>(agent: A, connectTimeoutMs: number): A {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = create(options, callback);
    armConnectTimeout(socket, connectTimeoutMs);
    return socket;
  };
  return agent;
}

export interface GraphAgents {
  http: http.Agent;
  https: https.Agent;
}

export function createGraphAgents(opts: {
  connectTimeoutMs: number;
  maxSockets: number;
  tlsCaCertificate?: string | undefined;
}): GraphAgents {
  // Idle sockets are dropped after 4 s, before typical servers' 5 s keep-alive timeout closes them under us.
  const agentOptions = {
    keepAlive: true,
    maxSockets: opts.maxSockets,
    maxFreeSockets: opts.maxSockets,
    timeout: 4_000,
  };
  return {
    http: withConnectTimeout(new http.Agent(agentOptions), opts.connectTimeoutMs),
    https: withConnectTimeout(
      new https.Agent({ ...agentOptions, ...(opts.tlsCaCertificate ? { ca: opts.tlsCaCertificate } : {}) }),
      opts.connectTimeoutMs,
    ),
  };
}
