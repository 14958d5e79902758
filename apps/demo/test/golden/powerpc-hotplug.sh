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
memalloc -n 1 hello 'Hello from node 1'
memalloc -p -n 1 pinned 'DMA in flight'
memread
dmesg -C
device_del dimm1
dmesg
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
memfree pinned
dmesg -C
device_del dimm1
dmesg
memread
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
