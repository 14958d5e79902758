# zonedev run -m 2G,slots=2,maxmem=4G
# Every kind of failure: bad sysfs writes, an unaligned probe, QEMU's refusals, a busy DIMM.
echo foo > /sys/devices/system/memory/memory0/state
echo $?
echo online > /sys/devices/system/memory/memory0/state
echo offline_movable > /sys/devices/system/memory/memory0/state
echo 1 > /sys/devices/system/memory/memory0/online
echo maybe > /sys/devices/system/memory/memory0/online
echo bogus > /sys/devices/system/memory/auto_online_blocks
echo 1 > /sys/devices/system/memory/block_size_bytes
echo 1 > /sys/devices/system/memory/memory99/state
cat /sys/devices/system/memory/probe
echo 0x300001000 > /sys/devices/system/memory/probe
echo 0x30000000x > /sys/devices/system/memory/probe
echo 0x300000000 > /sys/devices/system/memory/probe
echo 0x300000000 > /sys/devices/system/memory/probe
echo offline > /sys/devices/system/memory/memory96/state
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
object_add
object_add memory-backend-file,id=f0,size=1G
object_add memory-backend-ram,size=1G
object_add memory-backend-ram,id=1bad,size=1G
object_add memory-backend-ram,id=m1,size=lots
object_add memory-backend-ram,id=m1,size=1G,color=red
object_add memory-backend-ram,id=m1
object_add memory-backend-ram,id=m1,size=1G
object_add memory-backend-ram,id=m1,size=1G
object_add memory-backend-ram,id=big,size=3G
object_add memory-backend-ram,id=odd,size=100M
device_add
device_add virtio-mem-pci,id=vm0
device_add nvdimm,id=nv0
device_add pc-dimm,id=d1
device_add pc-dimm,id=d1,memdev=nope
device_add pc-dimm,id=d1,memdev=m1,node=1
device_add pc-dimm,id=d1,memdev=m1,node=x
device_add pc-dimm,id=d1,memdev=m1,slot=2
device_add pc-dimm,id=d1,memdev=m1,color=red
device_add pc-dimm,id=d1,memdev=big
device_add pc-dimm,id=d1,memdev=m1,addr=0x80000000
device_add pc-dimm,id=d1,memdev=m1,addr=0x100000001
device_add pc-dimm,id=d1,memdev=m1
device_add pc-dimm,id=d1,memdev=m1
device_add pc-dimm,id=d2,memdev=m1
device_add pc-dimm,id=d2,memdev=odd
object_del m1
object_del nope
device_del
device_del nope
info
info memory-devices
# A kernel page in the DIMM: it cannot be unplugged.
chmem -e -z Normal 0x100000000-0x13fffffff
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
memalloc pinned
echo offline > /sys/devices/system/memory/memory32/state
dmesg -C
device_del d1
dmesg
info memory-devices
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
memfree pinned
device_del d1
info memory-devices
# The demo's own tools.
memalloc
memalloc -n x
memalloc -n 9 x
memalloc -q x
memalloc a
memalloc a
memread nope
memfree nope
page
page zz
page 0x7fffffff
pageflags --1999
devmem
devmem 0x1000 12
devmem 0x1000 32 zz
devmem zz
memremap -t weird 0x1000 2M
memremap 0x1000
memremap 0x1000 2M
memunmap nope
trace bogus
nope
exit 3
echo never
