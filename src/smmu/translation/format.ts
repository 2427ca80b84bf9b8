// Small formatting helpers for translation results (inspector/CLI text).
import { PERM_R, PERM_W, PERM_X } from './types.js';

/** 'rwx' style string of PERM_* bits ('-' for a missing permission). */
export function permsString(p: number): string {
  return (p & PERM_R ? 'r' : '-') + (p & PERM_W ? 'w' : '-') + (p & PERM_X ? 'x' : '-');
}
