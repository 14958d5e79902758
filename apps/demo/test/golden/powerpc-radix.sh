# zonedev run --platform powerpc --mmu radix -m 2G,slots=2,maxmem=4G --cmdline 'memhp_default_state=online memory_hotplug.memmap_on_memory=1 memmap=1G!2G'
# The radix MMU: 2 MiB vmemmap pages and pageblocks; v5.13 has no memmap_on_memory on powerpc.
dmesg
pageflags
cat /proc/meminfo
cat /proc/pagetypeinfo
object_add memory-backend-ram,id=mem1,size=256M
device_add pc-dimm,id=dimm1,memdev=mem1
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
page 0x8000
memremap -t private 64M
memremap
