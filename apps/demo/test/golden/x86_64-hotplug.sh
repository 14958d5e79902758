# zonedev run -m 4G,slots=4,maxmem=8G --cmdline 'memmap=1G!4G memory_hotplug.memmap_on_memory=1'
# Hot-add with and without memmap_on_memory, online, migrate, unplug, re-plug.
object_add memory-backend-ram,id=mem1,size=128M
device_add pc-dimm,id=dimm1,memdev=mem1
object_add memory-backend-ram,id=mem2,size=256M
device_add pc-dimm,id=dimm2,memdev=mem2
info memory-devices
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
cat /sys/devices/system/memory/memory40/valid_zones
cat /sys/devices/system/memory/memory41/valid_zones
cat /proc/iomem
page 0x140000
page 0x148000
echo online_movable > /sys/devices/system/memory/memory40/state
cat /sys/devices/system/memory/memory40/state /sys/devices/system/memory/memory40/valid_zones
page 0x140000
page 0x1401ff
page 0x140200
chmem -e -b 41-42
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
page 0x148000
process start
process mmap 100 8K
process write 100 0x7ffff7ffd000 Hello from the hot-plugged DIMM
process write 100 0x7ffff7ffe000 A second page
process pte 100 0x7ffff7ffd000
process pte 100 0x7ffff7ffe000
page 0x140200
cat /proc/meminfo
cat /proc/buddyinfo
echo offline > /sys/devices/system/memory/memory40/state
process pte 100 0x7ffff7ffd000
process read 100 0x7ffff7ffd000 31
process read 100 0x7ffff7ffe000 13
devmem 0x140200000 64
device_del dimm1
info memory-devices
devmem 0x148000000 32 0xcafe
devmem 0x148000000 32
devmem 0x148000000 8
chmem -d -b 41-42
device_del dimm2
devmem 0x148000000 32
device_add pc-dimm,id=dimm2,memdev=mem2
devmem 0x140000000 32
info memory-devices
echo online > /sys/devices/system/memory/memory40/state
devmem 0x140000000 32
object_del mem1
process exit 100
process list
lsmem
cat /proc/iomem
dmesg
