// virtio-blk device layouts (virtio 1.2 §5.2).

/** Sector unit of capacity and request addresses, whatever blk_size says (§5.2.4). */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** Bytes of the GET_ID answer (§5.2.6). */
export const VIRTIO_BLK_ID_BYTES = 20;

/** struct virtio_blk_config field offsets (§5.2.4). */
export const VIRTIO_BLK_CONFIG = Object.freeze({
  /** le64, in 512-byte sectors. */
  capacity: 0x00,
  /** le32, with VIRTIO_BLK_F_SIZE_MAX: largest single segment. */
  size_max: 0x08,
  /** le32, with VIRTIO_BLK_F_SEG_MAX: most segments in one request. */
  seg_max: 0x0c,
  /** geometry: cylinders le16, heads u8, sectors u8 (VIRTIO_BLK_F_GEOMETRY). */
  geometry_cylinders: 0x10,
  geometry_heads: 0x12,
  geometry_sectors: 0x13,
  /** le32, with VIRTIO_BLK_F_BLK_SIZE. */
  blk_size: 0x14,
  physical_block_exp: 0x18,
  alignment_offset: 0x19,
  min_io_size: 0x1a,
  opt_io_size: 0x1c,
  /** u8, with VIRTIO_BLK_F_CONFIG_WCE. */
  writeback: 0x20,
  num_queues: 0x22,
  max_discard_sectors: 0x24,
  max_discard_seg: 0x28,
  discard_sector_alignment: 0x2c,
  max_write_zeroes_sectors: 0x30,
  max_write_zeroes_seg: 0x34,
  write_zeroes_may_unmap: 0x38,
  max_secure_erase_sectors: 0x3c,
  max_secure_erase_seg: 0x40,
  secure_erase_sector_alignment: 0x44,
  /** Size of the structure. */
  SIZE: 0x48,
});

/** struct virtio_blk_req header (§5.2.6): type le32 @0, reserved le32 @4, sector le64 @8; then data, then a status byte. */
export const VIRTIO_BLK_REQ = Object.freeze({
  TYPE: 0,
  RESERVED: 4,
  SECTOR: 8,
  HEADER_SIZE: 16,
  STATUS_SIZE: 1,
});

/** Request types (§5.2.6). */
export const VIRTIO_BLK_T = Object.freeze({
  IN: 0,
  OUT: 1,
  FLUSH: 4,
  GET_ID: 8,
  GET_LIFETIME: 10,
  DISCARD: 11,
  WRITE_ZEROES: 13,
  SECURE_ERASE: 14,
});

/** Request status byte values (§5.2.6). */
export const VIRTIO_BLK_S = Object.freeze({
  OK: 0,
  IOERR: 1,
  UNSUPP: 2,
});
