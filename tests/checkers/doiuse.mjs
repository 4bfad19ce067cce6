// What email clients lack, from npm's doiuse-email (caniemail data): reads
// {"clients": [globs], "emails": {name: html}} on standard input, writes for each email the
// features the clients do not support (errors) and the notes on partial support.
import { doIUseEmail } from 'doiuse-email';
import { readFileSync } from 'node:fs';

const { clients, emails } = JSON.parse(readFileSync(0, 'utf8'));
const out = {};
for (const [name, html] of Object.entries(emails)) {
  const result = doIUseEmail(html, { emailClients: clients });
  out[name] = { errors: result.errors ?? [], notes: result.notes ?? [] };
}
process.stdout.write(JSON.stringify(out));
