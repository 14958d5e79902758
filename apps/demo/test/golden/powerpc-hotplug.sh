# zonedev run --platform powerpc -m 2G,slots=2,maxmem=4G --numa 2
# DLPAR: hot-add onto node 1, re-online movable, migrate, a pinned page, unplug.
object_add memory-backend-ram,id=mem1,size=512M
dmesg -C
device_add pc-dimm,id=dimm1,memdev=mem1,node=1
dmesg
info memory-devices
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
cat /proc/iomem
page 0x8000
chmem -d 0x80000000-0x9fffffff
chmem -e -z Movable 0x80000000-0x9fffffff
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
process start --membind 1
process mmap 100 128K
process write 100 0x7ffff7fe0000 Hello from node 1
process write 100 0x7ffff7ff0000 DMA in flight
process pin 100 0x7ffff7ff0000 64K
process pte 100 0x7ffff7fe0000
process pte 100 0x7ffff7ff0000
dmesg -C
device_del dimm1
dmesg
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
process unpin 100
dmesg -C
device_del dimm1
dmesg
process pte 100 0x7ffff7fe0000
process pte 100 0x7ffff7ff0000
process read 100 0x7ffff7fe0000 17
process read 100 0x7ffff7ff0000 13
info memory-devices
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
object_add memory-backend-ram,id=odd,size=100M
device_add pc-dimm,id=dimm2,memdev=odd
device_add pc-dimm,id=dimm2,memdev=mem1,node=2
echo 0x80000000 > /sys/devices/system/memory/probe
echo 0x84000000 > /sys/devices/system/memory/probe
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
device_add pc-dimm,id=dimm2,memdev=mem1
dmesg
