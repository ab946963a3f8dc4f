'use strict';
// `prisma dev` is not part of this project: it uses PostgreSQL (DATABASE_URL or the embedded one).
async function startLocalDurableStreamsServer() {
  throw new Error('`prisma dev` is not available in Sync Job Guard; use DATABASE_URL or `npm start`');
}
module.exports = { startLocalDurableStreamsServer };
