# zonedev run -m 4G,slots=2,maxmem=6G --numa 2
# Two NUMA nodes from QEMU's SRAT; a DIMM on node 1; migration to the other node.
dmesg
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
cat /sys/devices/system/node/possible /sys/devices/system/node/online /sys/devices/system/node/has_memory /sys/devices/system/node/has_cpu
ls /sys/devices/system/node/node1
cat /proc/buddyinfo
object_add memory-backend-ram,id=mem1,size=256M
device_add pc-dimm,id=dimm1,memdev=mem1,node=1
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
chmem -e -z Movable -b 40-41
process start --membind 1
process mmap 100 4K
process write 100 0x7ffff7ffe000 on node 1
process pte 100 0x7ffff7ffe000
chmem -d -b 40-41
process pte 100 0x7ffff7ffe000
process read 100 0x7ffff7ffe000 9
device_del dimm1
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
cat /proc/buddyinfo
