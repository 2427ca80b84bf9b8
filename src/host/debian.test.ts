import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  archiveFor,
  isKernelRelease,
  parseDeb822Sources,
  parseDependsClosure,
  parseKernelPackage,
  parseOneLineSources,
  privateSourceList,
} from './debian.js';

// Placeholder host names: the tests only check that the URI is carried through.
const ARCHIVE = 'http://archive.example/debian';
const SECURITY = 'http://archive.example/debian-security';

test('deb822 sources: the entry whose suites include the release, with its Signed-By path', () => {
  const text = [
    'Types: deb',
    '# a comment inside the stanza',
    `URIs: ${ARCHIVE}`,
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    `URIs: ${SECURITY}`,
    'Suites: bookworm-security',
    'Components: main',
    '',
    'Types: deb-src',
    'URIs: http://src.example/debian',
    'Suites: bookworm',
    'Components: main',
    '',
    'Enabled: no',
    'Types: deb',
    'URIs: http://disabled.example/debian',
    'Suites: bookworm',
    'Components: main',
  ].join('\n');
  const sources = parseDeb822Sources(text);
  assert.equal(sources.length, 2);
  const a = archiveFor(sources, 'bookworm');
  assert.deepEqual(a, {
    uri: ARCHIVE,
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
    signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
  });
  assert.equal(archiveFor(sources, 'trixie'), undefined);
});

test('deb822 sources: an inline key block is not taken as a Signed-By path', () => {
  const text = ['Types: deb', `URIs: ${ARCHIVE}`, 'Suites: trixie', 'Components: main contrib', 'Signed-By:', ' -----BEGIN PGP PUBLIC KEY BLOCK-----', ' .', ' abc'].join('\n');
  const [s] = parseDeb822Sources(text);
  assert.ok(s);
  assert.equal(s.signedBy, undefined);
  assert.deepEqual(s.components, ['main', 'contrib']);
});

test('one-line sources: options, comments and deb-src', () => {
  const text = [
    '# deb http://old.example/debian buster main',
    `deb [arch=amd64 signed-by=/k.gpg] ${ARCHIVE} bookworm main non-free-firmware`,
    'deb-src http://src.example/debian bookworm main',
    `deb ${SECURITY} bookworm-security main # trailing`,
    'deb [broken',
  ].join('\n');
  const sources = parseOneLineSources(text);
  assert.deepEqual(sources, [
    { uri: ARCHIVE, suites: ['bookworm'], components: ['main', 'non-free-firmware'], signedBy: '/k.gpg' },
    { uri: SECURITY, suites: ['bookworm-security'], components: ['main'] },
  ]);
  assert.equal(archiveFor(sources, 'bookworm')?.uri, ARCHIVE);
});

test('private source list: the same archive, another suite, the wanted architectures', () => {
  const archive = { uri: ARCHIVE, suites: ['bookworm'], components: ['main'], signedBy: '/k.gpg' };
  assert.equal(privateSourceList(archive, 'trixie', ['amd64', 'arm64']), `deb [arch=amd64,arm64 signed-by=/k.gpg] ${ARCHIVE} trixie main\n`);
  const { signedBy: _, ...unsigned } = archive;
  assert.equal(privateSourceList(unsigned, 'trixie', ['arm64']), `deb [arch=arm64] ${ARCHIVE} trixie main\n`);
  // What the list says round-trips through the one-line parser.
  assert.deepEqual(parseOneLineSources(privateSourceList(archive, 'trixie', ['amd64'])), [
    { uri: ARCHIVE, suites: ['trixie'], components: ['main'], signedBy: '/k.gpg' },
  ]);
});

// The shape of `apt-cache depends --recurse --no-recommends ...` output (abridged from a real run).
const CLOSURE = [
  'qemu-system-arm',
  '  Depends: libc6',
  '  Depends: qemu-system-data',
  'libc6',
  '  Depends: libgcc-s1',
  'qemu-system-data',
  'libgcc-s1',
  '  PreDepends: libc6',
  'libpam0g:arm64',
  '  Depends: libc6:arm64',
  ' |Depends: <debconf:arm64>',
  '    debconf',
  '  Depends: <debconf-2.0:arm64>',
  '    cdebconf:arm64',
  'debconf',
  'libc6:arm64',
  '<debconf:arm64>',
  '<debconf-2.0>',
  '',
].join('\n');

test('dependency closure: column-0 names, virtual packages and other architectures left out', () => {
  assert.deepEqual(parseDependsClosure(CLOSURE, 'amd64'), ['debconf', 'libc6', 'libgcc-s1', 'qemu-system-arm', 'qemu-system-data']);
  assert.deepEqual(parseDependsClosure(CLOSURE, 'arm64'), [
    'debconf', 'libc6', 'libc6:arm64', 'libgcc-s1', 'libpam0g:arm64', 'qemu-system-arm', 'qemu-system-data',
  ]);
  assert.deepEqual(parseDependsClosure('', 'amd64'), []);
});

test('kernel package: the versioned image the metapackage depends on', () => {
  assert.equal(parseKernelPackage('linux-image-arm64:arm64\n  Depends: linux-image-6.12.117+deb13-arm64:arm64\n'), 'linux-image-6.12.117+deb13-arm64');
  assert.equal(parseKernelPackage('linux-image-arm64\n  Depends: linux-image-6.1.0-57-arm64'), 'linux-image-6.1.0-57-arm64');
  // The unversioned metapackage itself and other dependencies are not it.
  assert.equal(parseKernelPackage('linux-image-arm64:arm64\n  Depends: linux-image-arm64-signed-template\n'), undefined);
  assert.equal(isKernelRelease('6.1'), true);
  assert.equal(isKernelRelease('6.12'), true);
  assert.equal(isKernelRelease('6.6'), false);
  assert.equal(isKernelRelease('toString'), false);
});
