// Where `vsmmu boot` keeps downloaded guest pieces (kernel, busybox): $VSMMU_CACHE, else
// $XDG_CACHE_HOME/vsmmu, else ~/.cache/vsmmu. Read at call time so a caller (the interop tier)
// can point it elsewhere before the first download.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  const own = process.env['VSMMU_CACHE'];
  if (own !== undefined && own !== '') return own;
  const xdg = process.env['XDG_CACHE_HOME'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'vsmmu');
  return join(homedir(), '.cache', 'vsmmu');
}
