// The real gc-bd-serve (image/agent/bd-serve), built once per source hash by
// scripts/build-upstream.sh into the Go cache, for running the channel tests against it too.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../../../../', import.meta.url).pathname;

let built: string | undefined;

/** Path of the built binary; builds it on first use (cold: downloads beads' Go modules). */
export function bdServeBinary(): string {
  if (built === undefined) {
    const dir = execFileSync('bash', [join(ROOT, 'scripts/build-upstream.sh'), 'bd-serve'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    built = join(dir, 'gc-bd-serve');
  }
  return built;
}
