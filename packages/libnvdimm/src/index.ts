/**
 * `@zonedev/libnvdimm` — mirrors drivers/nvdimm/, drivers/dax/, arch/x86/kernel/pmem.c (Linux v5.13).
 *
 * This package owns: nd bus and providers (e820 legacy pmem, of_pmem), regions, namespaces, claims, pfn/dax/btt devices and their on-media info blocks, the pmem block driver and DAX, devdax and kmem, BTT.
 *
 * The exports are grouped by the kernel file each group mirrors.
 *
 * @packageDocumentation
 */

// --- drivers/nvdimm/core.c (nd_fletcher64), drivers/nvdimm/claim.c (nd_sb_checksum)
export { ndFletcher64, ndSbChecksum } from './fletcher.js';

// --- drivers/nvdimm/nd.h, nd-core.h, include/uapi/linux/ndctl.h, core.c (nd_size_select_*), namespace_devs.c (nd_uuid_parse)
export {
  ND_DEVICE_DIMM,
  ND_DEVICE_REGION_PMEM,
  ND_DEVICE_REGION_BLK,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  ND_DEVICE_NAMESPACE_BLK,
  ND_DEVICE_DAX_PMEM,
  NvdimmClaimClass,
  PfnMode,
  PFN_SIG,
  DAX_SIG,
  PFN_SIG_LEN,
  MAX_STRUCT_PAGE_SIZE,
  ND_MIN_CLAIM_SIZE,
  MEMREMAP_COMPAT_ALIGN_MAX,
  ND_REGION_PAGEMAP,
  ND_REGION_PERSIST_CACHE,
  ND_REGION_PERSIST_MEMCTRL,
  BTT_LBASIZE_SUPPORTED,
  ndSizeSelectShow,
  ndSizeSelectStore,
  ndUuidParse,
  formatUuid,
} from './nd.js';

// --- drivers/nvdimm/pfn.h, pfn_devs.c (nd_pfn_init layout)
export {
  ND_PFN_SB_SIZE,
  ND_PFN_SB_OFFSET,
  ND_PFN_SB_CHECKSUM_OFFSET,
  encodeNdPfnSb,
  decodeNdPfnSb,
  ndPfnLayout,
} from './pfn-sb.js';
export type { NdPfnSb, NdPfnLayout } from './pfn-sb.js';

// --- drivers/nvdimm/nd.h, nd-core.h: the nd bus devices
export { NvdimmBus, NdRegion, NdNamespaceIo, NdPfn, NdBtt } from './devices.js';
export type { NvdimmBusDescriptor, NdRegionDesc, NdMappingDesc } from './devices.js';

// --- drivers/nvdimm/namespace_devs.c (struct nd_namespace_pmem), drivers/acpi/nfit/core.c (acpi_nfit_init_interleave_set)
export { NdNamespacePmem, NFIT_SPA_PM_GUID, nfitInterleaveSet } from './namespace-pmem.js';
export type { NdInterleaveSet, NfitSetMember } from './namespace-pmem.js';

// --- drivers/acpi/nfit/core.c (QEMU's NFIT), drivers/nvdimm/dimm_devs.c, dimm.c (nmemN and its config commands)
export { NvdimmDimm, ND_CMD_GET_CONFIG_SIZE, ND_CMD_GET_CONFIG_DATA, ND_CMD_SET_CONFIG_DATA, ND_CMD_CALL, QEMU_NVDIMM_MAX_XFER, nvdimmCmdName } from './nfit.js';
export type { NfitDescriptor, NfitDimm, NfitSpaRange } from './nfit.js';

// --- drivers/nvdimm/pmem.c, drivers/dax/super.c (__generic_fsdax_supported)
export { PmemDisk } from './pmem.js';
export type { PmemDiskInit, PmemPoison } from './pmem.js';

// --- drivers/nvdimm/btt.c (btt_blk_init: the sector-mode disk)
export { BttDisk } from './pmem-btt.js';

// --- drivers/nvdimm/bus.c, region*.c, namespace_devs.c, claim.c, pfn_devs.c, pmem.c, e820.c, of_pmem.c, arch/x86/kernel/pmem.c
export { Libnvdimm } from './libnvdimm.js';
export type { LibnvdimmOptions, NvdimmArch, NvdimmMm, E820PmemRange, OfPmemNode } from './libnvdimm.js';

// --- drivers/dax/bus.c, device.c, dax-private.h (the dax bus, dax regions, dev_dax, device_dax)
export { IORESOURCE_DAX_STATIC, DaxBus, DaxRegion, DevDax } from './dax-bus.js';
export type { DaxBusOptions, DevDaxRange } from './dax-bus.js';

// --- drivers/dax/kmem.c (device-dax memory as System RAM)
export { KMEM_RESOURCE_NAME, DaxKmem } from './kmem.js';
export type { DaxKmemOptions } from './kmem.js';

// --- byte-addressed media under the BTT and the label area (nsio_rw_bytes, nvdimm_{get,set}_config_data)
export { MemoryMedia, PhysMemMedia, CrashMedia, PowerFailure } from './btt-media.js';
export type { NdMedia } from './btt-media.js';

// --- drivers/nvdimm/label.c, label.h (namespace index blocks and labels), ndctl init-labels / read-labels
export {
  NSINDEX_SIGNATURE, NSINDEX_SIG_LEN, NSINDEX_ALIGN, NSINDEX_SEQ_MASK, NSINDEX_HDR_SIZE, NSLABEL_UUID_LEN, NSLABEL_NAME_LEN,
  NSLABEL_FLAG_ROLABEL, NSLABEL_FLAG_LOCAL, NSLABEL_FLAG_BTT, NSLABEL_FLAG_UPDATING, ND_LABEL_MIN_SIZE,
  NSINDEX_OFFSETS, NSLABEL_OFFSETS, NVDIMM_BTT_GUID, NVDIMM_BTT2_GUID, NVDIMM_PFN_GUID, NVDIMM_DAX_GUID,
  toNvdimmCclass, toAbstractionGuid, bestSeq, sizeofNamespaceIndexFor, nvdimmNumLabelSlots, sizeofNamespaceIndex,
  decodeNamespaceIndex, decodeNamespaceLabel, NvdimmDrvdata, ndctlInitLabels, ndctlReadLabels,
} from './label.js';
export type { NdNamespaceIndex, NdNamespaceLabel, PmemLabelSpec, LabelLog } from './label.js';

// --- drivers/nvdimm/btt.c, btt.h, btt_devs.c (the Block Translation Table)
export {
  ND_MAX_LANES, INT_LBASIZE_ALIGNMENT, BTT_SIG, BTT_SIG_LEN, MAP_ENT_SIZE, MAP_TRIM_SHIFT, MAP_ERR_SHIFT, MAP_TRIM_MASK,
  MAP_ERR_MASK, MAP_LBA_MASK, MAP_ENT_NORMAL, LOG_GRP_SIZE, LOG_ENT_SIZE, ARENA_MIN_SIZE, ARENA_MAX_SIZE, RTT_VALID,
  RTT_INVALID, BTT_PG_SIZE, BTT_DEFAULT_NFREE, LOG_SEQ_INIT, IB_FLAG_ERROR, IB_FLAG_ERROR_MASK, LOG_NEW_ENT, LOG_OLD_ENT,
  BTT_SB_OFFSETS, entLba, entEFlag, entZFlag, entNormal, setEFlag, ndIncSeq, encodeBttSb, decodeBttSb, bttSbChecksum,
  ndBttArenaIsValid, ArenaInfo, allocArena, createArenas, ndBttVersion, ndBttProbe, Btt,
} from './btt.js';
export type { BttSb, BttLog, BttLogLevel, FreeEntry, LogEntry, BttOptions, BttInitState, NdBttProbe } from './btt.js';

// --- ndctl v72 ndctl/check.c (ndctl check-namespace, the userspace btt-check)
export { ndctlCheckNamespace } from './btt-check.js';
export type { CheckLogLine, CheckResult, CheckOptions } from './btt-check.js';

// --- include/uapi/linux/ndctl.h, drivers/nvdimm/bus.c __nd_ioctl() (bus commands)
export { ND_CMD_ARS_CAP, ND_CMD_ARS_START, ND_CMD_ARS_STATUS, ND_CMD_CLEAR_ERROR, nvdimmBusCmdName } from './bus-cmd.js';
export type { NdBusCommand, NdBusCommandResult } from './bus-cmd.js';
