// PCI Express Capability structure (capability ID 0x10), version 2: register offsets, port types,
// and the fields the models use (device, link, slot, root registers). Layout and encodings only.
// PCI Express Base Specification r5.0 §7.5.3 (PCI Express Capability Structure); hot-plug
// signalling behaviour that uses these fields is §6.7.3.
import { bit, reg32Field } from '../bits.js';

/** Register offsets from the capability start, and the capability length (version 2). */
export const PCIE_CAP = Object.freeze({
  CAPABILITIES: 0x02, // 16-bit
  DEVICE_CAPABILITIES: 0x04, // 32-bit
  DEVICE_CONTROL: 0x08, // 16-bit
  DEVICE_STATUS: 0x0a, // 16-bit
  LINK_CAPABILITIES: 0x0c, // 32-bit
  LINK_CONTROL: 0x10, // 16-bit
  LINK_STATUS: 0x12, // 16-bit
  SLOT_CAPABILITIES: 0x14, // 32-bit
  SLOT_CONTROL: 0x18, // 16-bit
  SLOT_STATUS: 0x1a, // 16-bit
  ROOT_CONTROL: 0x1c, // 16-bit
  ROOT_CAPABILITIES: 0x1e, // 16-bit
  ROOT_STATUS: 0x20, // 32-bit
  DEVICE_CAPABILITIES_2: 0x24,
  DEVICE_CONTROL_2: 0x28,
  DEVICE_STATUS_2: 0x2a,
  LINK_CAPABILITIES_2: 0x2c,
  LINK_CONTROL_2: 0x30,
  LINK_STATUS_2: 0x32,
  SLOT_CAPABILITIES_2: 0x34,
  SLOT_CONTROL_2: 0x38,
  SLOT_STATUS_2: 0x3a,
  LENGTH: 0x3c,
});

/** PCI Express Capabilities register (§7.5.3.2). */
export const PCIE_CAPS = Object.freeze({
  VERSION: reg32Field('VERSION', 3, 0),
  PORT_TYPE: reg32Field('PORT_TYPE', 7, 4),
  SLOT_IMPLEMENTED: bit('SLOT_IMPLEMENTED', 0, 8),
  INTERRUPT_MESSAGE_NUMBER: reg32Field('INTERRUPT_MESSAGE_NUMBER', 13, 9),
});
export const PCIE_CAP_VERSION = 2;

/** Device/Port Type values (§7.5.3.2). */
export const PORT_TYPE = Object.freeze({
  ENDPOINT: 0x0,
  LEGACY_ENDPOINT: 0x1,
  ROOT_PORT: 0x4,
  UPSTREAM_SWITCH_PORT: 0x5,
  DOWNSTREAM_SWITCH_PORT: 0x6,
  PCIE_TO_PCI_BRIDGE: 0x7,
  PCI_TO_PCIE_BRIDGE: 0x8,
  ROOT_COMPLEX_INTEGRATED_ENDPOINT: 0x9,
  ROOT_COMPLEX_EVENT_COLLECTOR: 0xa,
});
export type PortTypeValue = (typeof PORT_TYPE)[keyof typeof PORT_TYPE];

/** Device Capabilities (§7.5.3.3). */
export const DEVICE_CAPS = Object.freeze({
  MAX_PAYLOAD_SUPPORTED: reg32Field('MAX_PAYLOAD_SUPPORTED', 2, 0),
  ROLE_BASED_ERROR_REPORTING: bit('ROLE_BASED_ERROR_REPORTING', 0, 15),
  FLR_CAPABLE: bit('FLR_CAPABLE', 0, 28),
});

/** Device Control (§7.5.3.4). Bits 14:0 are software controls; bit 15 initiates FLR (endpoints). */
export const DEVICE_CONTROL = Object.freeze({
  CORRECTABLE_ERROR_REPORTING: bit('CORRECTABLE_ERROR_REPORTING', 0, 0),
  NON_FATAL_ERROR_REPORTING: bit('NON_FATAL_ERROR_REPORTING', 0, 1),
  FATAL_ERROR_REPORTING: bit('FATAL_ERROR_REPORTING', 0, 2),
  UNSUPPORTED_REQUEST_REPORTING: bit('UNSUPPORTED_REQUEST_REPORTING', 0, 3),
  RELAXED_ORDERING: bit('RELAXED_ORDERING', 0, 4),
  MAX_PAYLOAD_SIZE: reg32Field('MAX_PAYLOAD_SIZE', 7, 5),
  EXTENDED_TAG: bit('EXTENDED_TAG', 0, 8),
  NO_SNOOP: bit('NO_SNOOP', 0, 11),
  MAX_READ_REQUEST_SIZE: reg32Field('MAX_READ_REQUEST_SIZE', 14, 12),
  INITIATE_FLR: bit('INITIATE_FLR', 0, 15),
});
/** Device Status RW1C bits (§7.5.3.5): CED, NFED, FED, URD. */
export const DEVICE_STATUS_RW1C_MASK = 0x000f;

/** Link Capabilities (§7.5.3.6). */
export const LINK_CAPS = Object.freeze({
  MAX_LINK_SPEED: reg32Field('MAX_LINK_SPEED', 3, 0),
  MAX_LINK_WIDTH: reg32Field('MAX_LINK_WIDTH', 9, 4),
  /** Data Link Layer Link Active Reporting Capable (required for hot-plug capable downstream ports). */
  DLL_LINK_ACTIVE_REPORTING: bit('DLL_LINK_ACTIVE_REPORTING', 0, 20),
  LINK_BANDWIDTH_NOTIFICATION: bit('LINK_BANDWIDTH_NOTIFICATION', 0, 21),
  PORT_NUMBER: reg32Field('PORT_NUMBER', 31, 24),
});
/** Link speed encoding: 1 = 2.5 GT/s (index into Supported Link Speeds Vector). */
export const LINK_SPEED_2_5GT = 1;

/** Link Control (§7.5.3.7). */
export const LINK_CONTROL = Object.freeze({
  ASPM_CONTROL: reg32Field('ASPM_CONTROL', 1, 0),
  READ_COMPLETION_BOUNDARY: bit('READ_COMPLETION_BOUNDARY', 0, 3),
  LINK_DISABLE: bit('LINK_DISABLE', 0, 4),
  RETRAIN_LINK: bit('RETRAIN_LINK', 0, 5),
  COMMON_CLOCK: bit('COMMON_CLOCK', 0, 6),
  EXTENDED_SYNCH: bit('EXTENDED_SYNCH', 0, 7),
});

/** Link Status (§7.5.3.8). */
export const LINK_STATUS = Object.freeze({
  CURRENT_LINK_SPEED: reg32Field('CURRENT_LINK_SPEED', 3, 0),
  NEGOTIATED_LINK_WIDTH: reg32Field('NEGOTIATED_LINK_WIDTH', 9, 4),
  LINK_TRAINING: bit('LINK_TRAINING', 0, 11),
  SLOT_CLOCK: bit('SLOT_CLOCK', 0, 12),
  DLL_LINK_ACTIVE: bit('DLL_LINK_ACTIVE', 0, 13),
});

/** Slot Capabilities (§7.5.3.9). */
export const SLOT_CAPS = Object.freeze({
  ATTENTION_BUTTON_PRESENT: bit('ATTENTION_BUTTON_PRESENT', 0, 0),
  POWER_CONTROLLER_PRESENT: bit('POWER_CONTROLLER_PRESENT', 0, 1),
  MRL_SENSOR_PRESENT: bit('MRL_SENSOR_PRESENT', 0, 2),
  ATTENTION_INDICATOR_PRESENT: bit('ATTENTION_INDICATOR_PRESENT', 0, 3),
  POWER_INDICATOR_PRESENT: bit('POWER_INDICATOR_PRESENT', 0, 4),
  HOT_PLUG_SURPRISE: bit('HOT_PLUG_SURPRISE', 0, 5),
  HOT_PLUG_CAPABLE: bit('HOT_PLUG_CAPABLE', 0, 6),
  ELECTROMECHANICAL_INTERLOCK_PRESENT: bit('ELECTROMECHANICAL_INTERLOCK_PRESENT', 0, 17),
  NO_COMMAND_COMPLETED_SUPPORT: bit('NO_COMMAND_COMPLETED_SUPPORT', 0, 18),
  PHYSICAL_SLOT_NUMBER: reg32Field('PHYSICAL_SLOT_NUMBER', 31, 19),
});

/** Slot Control (§7.5.3.10); bits 12:0 are software controls. */
export const SLOT_CONTROL = Object.freeze({
  ATTENTION_BUTTON_PRESSED_ENABLE: bit('ATTENTION_BUTTON_PRESSED_ENABLE', 0, 0),
  POWER_FAULT_DETECTED_ENABLE: bit('POWER_FAULT_DETECTED_ENABLE', 0, 1),
  MRL_SENSOR_CHANGED_ENABLE: bit('MRL_SENSOR_CHANGED_ENABLE', 0, 2),
  PRESENCE_DETECT_CHANGED_ENABLE: bit('PRESENCE_DETECT_CHANGED_ENABLE', 0, 3),
  COMMAND_COMPLETED_INTERRUPT_ENABLE: bit('COMMAND_COMPLETED_INTERRUPT_ENABLE', 0, 4),
  HOT_PLUG_INTERRUPT_ENABLE: bit('HOT_PLUG_INTERRUPT_ENABLE', 0, 5),
  ATTENTION_INDICATOR_CONTROL: reg32Field('ATTENTION_INDICATOR_CONTROL', 7, 6),
  POWER_INDICATOR_CONTROL: reg32Field('POWER_INDICATOR_CONTROL', 9, 8),
  POWER_CONTROLLER_CONTROL: bit('POWER_CONTROLLER_CONTROL', 0, 10),
  ELECTROMECHANICAL_INTERLOCK_CONTROL: bit('ELECTROMECHANICAL_INTERLOCK_CONTROL', 0, 11),
  DLL_STATE_CHANGED_ENABLE: bit('DLL_STATE_CHANGED_ENABLE', 0, 12),
});
export const SLOT_CONTROL_WRITABLE_MASK = 0x1fff;

/** Slot Status (§7.5.3.11). */
export const SLOT_STATUS = Object.freeze({
  ATTENTION_BUTTON_PRESSED: bit('ATTENTION_BUTTON_PRESSED', 0, 0),
  POWER_FAULT_DETECTED: bit('POWER_FAULT_DETECTED', 0, 1),
  MRL_SENSOR_CHANGED: bit('MRL_SENSOR_CHANGED', 0, 2),
  PRESENCE_DETECT_CHANGED: bit('PRESENCE_DETECT_CHANGED', 0, 3),
  COMMAND_COMPLETED: bit('COMMAND_COMPLETED', 0, 4),
  MRL_SENSOR_STATE: bit('MRL_SENSOR_STATE', 0, 5),
  PRESENCE_DETECT_STATE: bit('PRESENCE_DETECT_STATE', 0, 6),
  ELECTROMECHANICAL_INTERLOCK_STATUS: bit('ELECTROMECHANICAL_INTERLOCK_STATUS', 0, 7),
  DLL_STATE_CHANGED: bit('DLL_STATE_CHANGED', 0, 8),
});
/** RW1C bits of Slot Status: ABP, PFD, MRLSC, PDC, CC, DLLSC. */
export const SLOT_STATUS_RW1C_MASK = 0x011f;

/** Root Control (§7.5.3.12). */
export const ROOT_CONTROL = Object.freeze({
  SERR_ON_CORRECTABLE: bit('SERR_ON_CORRECTABLE', 0, 0),
  SERR_ON_NON_FATAL: bit('SERR_ON_NON_FATAL', 0, 1),
  SERR_ON_FATAL: bit('SERR_ON_FATAL', 0, 2),
  PME_INTERRUPT_ENABLE: bit('PME_INTERRUPT_ENABLE', 0, 3),
});
export const ROOT_CONTROL_WRITABLE_MASK = 0x000f;
/** Root Status RW1C: PME Status (bit 16). */
export const ROOT_STATUS_RW1C_MASK = 0x0001_0000;

/** Link Capabilities 2 (§7.5.3.18): Supported Link Speeds Vector bits [7:1]. */
export const LINK_CAPS_2 = Object.freeze({
  SUPPORTED_LINK_SPEEDS: reg32Field('SUPPORTED_LINK_SPEEDS', 7, 1),
});

/** Link Control 2 (§7.5.3.19). */
export const LINK_CONTROL_2 = Object.freeze({
  TARGET_LINK_SPEED: reg32Field('TARGET_LINK_SPEED', 3, 0),
});
