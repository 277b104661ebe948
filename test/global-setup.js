// Integration and e2e tiers run against the real local Kafka and ClickHouse. Make sure they are up
// (idempotent: reuses running servers, honours KAFKA_BROKERS / CLICKHOUSE_URL) and export where.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.join(__dirname, '..');
  if (!process.env.PORTRAIT_INFRA_READY) {
    execFileSync('bash', [path.join(root, 'scripts/infra.sh'), 'up'], { stdio: 'inherit', cwd: root });
    process.env.PORTRAIT_INFRA_READY = '1';
  }
  const env = execFileSync('bash', [path.join(root, 'scripts/infra.sh'), 'env'], { cwd: root, encoding: 'utf8' });
  for (const line of env.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2];
  }
};
