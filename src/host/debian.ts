// Debian packages fetched with Debian's own clients (apt-cache, apt-get download, dpkg-deb -x) and
// cached in the cache directory (cache-dir.ts), so that reruns are instant and need no network.
//
// Suites: the machine's own release (e.g. bookworm on a bookworm host) uses the machine's package
// lists (adding a foreign architecture and updating them when needed, as root). Any other suite
// (e.g. trixie) uses a private apt source list kept in the cache: the archive URL is the one the
// machine's own /etc/apt sources use for its release, so nothing here names a mirror, and the
// machine's apt configuration is never changed for it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserInputError } from '../util/errors.js';
import { cacheDir } from './cache-dir.js';

/** One `deb` entry of an apt source list, as far as a private list needs it. */
export interface AptSource {
  readonly uri: string;
  readonly suites: readonly string[];
  readonly components: readonly string[];
  readonly signedBy?: string;
}

/** Parses one-line style apt sources (`deb [opts] URI SUITE COMPONENT...`); `deb-src` and comments are skipped. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line.startsWith('deb ') && !line.startsWith('deb\t')) continue;
    let rest = line.slice(3).trim();
    let signedBy: string | undefined;
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) continue;
      for (const opt of rest.slice(1, end).trim().split(/\s+/)) {
        const eq = opt.indexOf('=');
        if (eq > 0 && opt.slice(0, eq) === 'signed-by') signedBy = opt.slice(eq + 1);
      }
      rest = rest.slice(end + 1).trim();
    }
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (!uri || !suite) continue;
    out.push({ uri, suites: [suite], components, ...(signedBy !== undefined ? { signedBy } : {}) });
  }
  return out;
}

/** Parses deb822 style apt sources (`*.sources`: stanzas of `Types:`, `URIs:`, `Suites:` ...). */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text.split(/\n[ \t]*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^[ \t]/.test(raw) && last !== undefined) {
        // Continuation line (an inline Signed-By key block, or a folded list).
        fields.set(last, `${fields.get(last) ?? ''}\n${raw.trim()}`);
        continue;
      }
      const colon = raw.indexOf(':');
      if (colon <= 0) continue;
      last = raw.slice(0, colon).trim().toLowerCase();
      fields.set(last, raw.slice(colon + 1).trim());
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter((w) => w.length > 0);
    if (!words('types').includes('deb')) continue;
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const signed = fields.get('signed-by');
    // An inline key block is not a path; a private list then relies on apt's trusted keys.
    const signedBy = signed !== undefined && !signed.includes('\n') && signed.startsWith('/') ? signed : undefined;
    for (const uri of words('uris')) {
      out.push({ uri, suites: words('suites'), components: words('components'), ...(signedBy !== undefined ? { signedBy } : {}) });
    }
  }
  return out;
}

/** The archive entry for a release: a `deb` source whose suites include it exactly, with component main. */
export function archiveFor(sources: readonly AptSource[], release: string): AptSource | undefined {
  return sources.find((s) => s.suites.includes(release) && s.components.includes('main'));
}

/** The text of a private source list for `suite` on the same archive. */
export function privateSourceList(archive: AptSource, suite: string, archs: readonly string[]): string {
  const opts = [`arch=${archs.join(',')}`];
  if (archive.signedBy !== undefined) opts.push(`signed-by=${archive.signedBy}`);
  return `deb [${opts.join(' ')}] ${archive.uri} ${suite} main\n`;
}

/**
 * The package names of an `apt-cache depends --recurse` listing (package names start in column 0;
 * `<name>` is a virtual package). A name qualified with another architecture than `arch` is left
 * out (apt lists alternatives of any architecture); unqualified names are native or `all`.
 */
export function parseDependsClosure(text: string, arch: string): string[] {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || /^\s/.test(line) || line.startsWith('<')) continue;
    const name = line.trim();
    const colon = name.indexOf(':');
    if (colon >= 0 && name.slice(colon + 1) !== arch) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** The versioned package a metapackage depends on, e.g. `linux-image-6.1.0-57-arm64` for `linux-image-arm64`. */
export function parseKernelPackage(dependsText: string): string | undefined {
  return /Depends: (linux-image-[0-9][^\s:]*-arm64)(?::arm64)?\s/.exec(`${dependsText}\n`)?.[1];
}

// ---------------------------------------------------------------------------------------------
// The apt side.

const APT_TIMEOUT_MS = 600_000;

function fetchError(what: string, err: unknown): UserInputError {
  const e = err as { stderr?: string; message?: string; code?: string };
  if (e.code === 'ENOENT') return new UserInputError(`${what}: Debian's apt tools are not installed (apt-get, apt-cache, dpkg-deb)`, 'Debian package fetch');
  const lines = (e.stderr ?? e.message ?? String(err)).trim().split('\n').filter((l) => l.trim().length > 0);
  return new UserInputError(`${what} failed: ${lines.slice(-2).join(' / ')}`, 'Debian package fetch');
}

function run(what: string, cmd: string, args: readonly string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: APT_TIMEOUT_MS, maxBuffer: 64 << 20 });
  } catch (err) {
    throw fetchError(what, err);
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function machineRelease(): string {
  try {
    const m = /^VERSION_CODENAME=(\S+)/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1].replace(/"/g, '');
  } catch {
    // fall through
  }
  return '';
}

function machineSources(): AptSource[] {
  const out: AptSource[] = [];
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  out.push(...parseOneLineSources(read('/etc/apt/sources.list')));
  let parts: string[] = [];
  try {
    parts = readdirSync('/etc/apt/sources.list.d').sort();
  } catch {
    // no parts directory
  }
  for (const f of parts) {
    const p = join('/etc/apt/sources.list.d', f);
    if (f.endsWith('.list')) out.push(...parseOneLineSources(read(p)));
    else if (f.endsWith('.sources')) out.push(...parseDeb822Sources(read(p)));
  }
  return out;
}

function nativeArch(): string {
  return run('dpkg --print-architecture', 'dpkg', ['--print-architecture']).trim();
}

/** How apt is pointed at one suite: extra `-o` options (none for the machine's own lists). */
interface AptTarget {
  readonly suite: string;
  readonly options: readonly string[];
  /** Refreshes the lists (after a download found them stale). */
  refresh(): void;
}

const SUITE_NAME = /^[a-z][a-z0-9-]{1,31}$/;
const ARCH_NAME = /^[a-z0-9][a-z0-9-]{1,15}$/;

function systemTarget(suite: string, arch: string): AptTarget {
  const update = (): void => {
    if (!isRoot()) {
      throw new UserInputError(`package lists for ${arch} are missing: run \`dpkg --add-architecture ${arch} && apt-get update\` as root`, 'Debian package fetch');
    }
    const archs = run('dpkg --print-foreign-architectures', 'dpkg', ['--print-foreign-architectures']).split(/\s+/);
    if (arch !== nativeArch() && !archs.includes(arch)) run('dpkg --add-architecture', 'dpkg', ['--add-architecture', arch]);
    run('apt-get update', 'apt-get', ['update', '-qq']);
  };
  const known = (): boolean => {
    try {
      const out = execFileSync('apt-cache', ['policy', `dpkg:${arch}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: APT_TIMEOUT_MS });
      return /Candidate: (?!\(none\))/.test(out);
    } catch {
      return false;
    }
  };
  if (!known()) update();
  return { suite, options: [], refresh: update };
}

function privateTarget(suite: string, arch: string): AptTarget {
  const release = machineRelease();
  const archive = archiveFor(machineSources(), release);
  if (!archive) {
    throw new UserInputError(`no Debian archive for this machine's release (${release || 'unknown'}) in /etc/apt sources, so ${suite} cannot be reached`, 'Debian package fetch');
  }
  const root = join(cacheDir(), 'debian', 'apt', suite);
  const lists = join(root, 'lists');
  const cache = join(root, 'cache');
  const sourceList = join(root, 'sources.list');
  const archs = [...new Set([nativeArch(), arch])];
  const options = [
    '-o', `Dir::Etc::sourcelist=${sourceList}`,
    '-o', 'Dir::Etc::sourceparts=-',
    '-o', `Dir::State::Lists=${lists}`,
    '-o', `Dir::Cache=${cache}`,
    '-o', 'APT::Architectures=',
    ...archs.flatMap((a) => ['-o', `APT::Architectures::=${a}`]),
  ];
  const text = privateSourceList(archive, suite, archs);
  const stamp = join(root, 'updated');
  const update = (): void => {
    mkdirSync(join(lists, 'partial'), { recursive: true });
    mkdirSync(join(cache, 'archives', 'partial'), { recursive: true });
    writeFileSync(sourceList, text);
    // The private directories are ours; apt's download sandbox user need not reach them.
    run(`apt-get update (${suite})`, 'apt-get', [...options, '-o', 'APT::Sandbox::User=root', '-qq', 'update']);
    writeFileSync(stamp, `${new Date().toISOString()}\n${text}`);
  };
  const current = existsSync(stamp) && readFileSync(stamp, 'utf8').endsWith(text);
  if (!current) update();
  return { suite, options, refresh: update };
}

function aptTarget(suite: string, arch: string): AptTarget {
  if (!SUITE_NAME.test(suite)) throw new UserInputError(`'${suite}' is not a Debian suite name`, 'Debian package fetch');
  if (!ARCH_NAME.test(arch)) throw new UserInputError(`'${arch}' is not a Debian architecture name`, 'Debian package fetch');
  return suite === machineRelease() ? systemTarget(suite, arch) : privateTarget(suite, arch);
}

function qualify(name: string, arch: string, native: string): string {
  return name.includes(':') || arch === native ? name : `${name}:${arch}`;
}

export interface PackageRequest {
  /** Debian suite (release codename), e.g. `bookworm` or `trixie`. */
  readonly suite: string;
  /** Debian architecture of the packages, e.g. `arm64` or `amd64`. */
  readonly arch: string;
  readonly packages: readonly string[];
  /** Also fetch the dependency closure (Depends and Pre-Depends, no Recommends). */
  readonly withDependencies?: boolean;
}

function requestKey(req: PackageRequest): string {
  const what = JSON.stringify([req.suite, req.arch, [...req.packages].sort(), req.withDependencies === true]);
  return `${req.suite}-${req.arch}-${createHash('sha256').update(what).digest('hex').slice(0, 12)}`;
}

/**
 * Downloads the packages (once) and unpacks every one into one directory, which is returned. A
 * finished directory carries a `.done` stamp next to it; a later call with the same request
 * returns it without running apt at all.
 */
export function downloadPackages(req: PackageRequest): string {
  if (req.packages.length === 0) throw new UserInputError('no packages named', 'Debian package fetch');
  for (const p of req.packages) {
    if (!/^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/.test(p)) throw new UserInputError(`'${p}' is not a Debian package name`, 'Debian package fetch');
  }
  const base = join(cacheDir(), 'debian', 'pkgs');
  const key = requestKey(req);
  const dir = join(base, key);
  const stamp = `${dir}.done`;
  if (existsSync(stamp) && existsSync(dir)) return dir;

  const target = aptTarget(req.suite, req.arch);
  const native = nativeArch();
  const wanted = req.packages.map((p) => qualify(p, req.arch, native));
  const names = (): string[] => {
    if (req.withDependencies !== true) return wanted;
    const out = run(`apt-cache depends (${req.suite})`, 'apt-cache', [
      ...target.options, 'depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts',
      '--no-breaks', '--no-replaces', '--no-enhances', ...wanted,
    ]);
    return parseDependsClosure(out, req.arch);
  };

  const work = `${dir}.tmp-${process.pid}`;
  const debs = join(work, 'debs');
  const root = join(work, 'root');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  try {
    const list = names();
    const download = (): void => {
      run(`apt-get download (${req.suite})`, 'apt-get', [...target.options, '-q', 'download', ...list], debs);
    };
    try {
      download();
    } catch {
      // Lists older than the archive name files that are gone: refresh once and retry.
      rmSync(debs, { recursive: true, force: true });
      mkdirSync(debs, { recursive: true });
      target.refresh();
      download();
    }
    mkdirSync(root, { recursive: true });
    for (const f of readdirSync(debs).sort()) {
      if (f.endsWith('.deb')) run(`dpkg-deb -x ${f}`, 'dpkg-deb', ['-x', join(debs, f), root]);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(root, dir);
    writeFileSync(stamp, `${new Date().toISOString()}\n${list.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Debian's stock arm64 kernels.

export type KernelRelease = '6.1' | '6.12';

/** Which Debian release ships each kernel series as its `linux-image-arm64`. */
export const KERNEL_SUITES: Readonly<Record<KernelRelease, string>> = Object.freeze({ '6.1': 'bookworm', '6.12': 'trixie' });

export function isKernelRelease(s: string): s is KernelRelease {
  return Object.prototype.hasOwnProperty.call(KERNEL_SUITES, s);
}

export interface DebianKernel {
  readonly release: KernelRelease;
  readonly suite: string;
  /** The Image file (`boot/vmlinuz-<version>`). */
  readonly image: string;
  /** `uname -r`, e.g. `6.1.0-57-arm64`. */
  readonly version: string;
  /** `lib/modules/<version>` (or `usr/lib/modules/<version>`); modules may be `.ko` or `.ko.xz`. */
  readonly modulesDir: string;
}

function kernelIn(dir: string, release: KernelRelease, suite: string): DebianKernel {
  const boot = join(dir, 'boot');
  const vmlinuz = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
  if (!vmlinuz) throw new UserInputError(`no vmlinuz in ${boot}`, 'Debian package fetch');
  const version = vmlinuz.slice('vmlinuz-'.length);
  if (!version.startsWith(`${release}.`)) {
    throw new UserInputError(`${suite}'s arm64 kernel is ${version}, not a ${release} kernel`, 'Debian package fetch');
  }
  // Merged-/usr releases (trixie) ship modules under usr/lib/modules, older ones under lib/modules.
  const modulesDir = [join(dir, 'usr', 'lib', 'modules', version), join(dir, 'lib', 'modules', version)].find((d) => existsSync(d));
  if (!modulesDir) throw new UserInputError(`the ${version} package has no modules directory`, 'Debian package fetch');
  return { release, suite, image: join(boot, vmlinuz), version, modulesDir };
}

/**
 * Debian's stock arm64 kernel of a series: the package `linux-image-arm64:arm64` depends on in the
 * suite that ships it. Resolved once; later calls use the cached unpacked package.
 */
export function linuxKernel(release: KernelRelease): DebianKernel {
  const suite = KERNEL_SUITES[release];
  const pointer = join(cacheDir(), 'debian', `kernel-${release}`);
  if (existsSync(pointer)) {
    const dir = join(cacheDir(), 'debian', 'pkgs', readFileSync(pointer, 'utf8').trim());
    if (existsSync(`${dir}.done`)) return kernelIn(dir, release, suite);
  }
  const target = aptTarget(suite, 'arm64');
  const depends = run(`apt-cache depends (${suite})`, 'apt-cache', [...target.options, 'depends', 'linux-image-arm64:arm64']);
  const pkg = parseKernelPackage(depends);
  if (!pkg) throw new UserInputError(`cannot find the kernel package linux-image-arm64:arm64 depends on in ${suite}`, 'Debian package fetch');
  const dir = downloadPackages({ suite, arch: 'arm64', packages: [pkg] });
  const kernel = kernelIn(dir, release, suite);
  writeFileSync(pointer, `${basename(dir)}\n`);
  return kernel;
}

/** Debian's static busybox for arm64 (from bookworm unless another suite is named): the path of `bin/busybox`. */
export function busyboxStatic(suite = 'bookworm'): string {
  const dir = downloadPackages({ suite, arch: 'arm64', packages: ['busybox-static'] });
  const path = join(dir, 'bin', 'busybox');
  if (!existsSync(path)) throw new UserInputError(`busybox-static has no bin/busybox in ${dir}`, 'Debian package fetch');
  return path;
}
