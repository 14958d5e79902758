# zonedev run -m 4G,slots=2,maxmem=6G --cmdline 'memmap=1G!4G memory_hotplug.memmap_on_memory=1'
# Boot: what the kernel says, and what /proc and /sys show afterwards.
dmesg
cat /proc/cmdline
lsmem
lsmem --json -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
cat /proc/iomem
cat /proc/meminfo
cat /proc/zoneinfo
cat /proc/buddyinfo
cat /proc/pagetypeinfo
ls /sys/devices/system/memory
cat /sys/devices/system/memory/block_size_bytes
cat /sys/devices/system/memory/auto_online_blocks
cat /sys/module/memory_hotplug/parameters/memmap_on_memory
ls /sys/devices/system/memory/memory0
cat /sys/devices/system/memory/memory0/valid_zones /sys/devices/system/memory/memory1/valid_zones /sys/devices/system/memory/memory23/phys_index
cat /sys/devices/system/memory/memory23/state /sys/devices/system/memory/memory23/online /sys/devices/system/memory/memory23/removable /sys/devices/system/memory/memory23/phys_device
ls /sys/devices/system/node
cat /sys/devices/system/node/possible /sys/devices/system/node/online /sys/devices/system/node/has_memory /sys/devices/system/node/has_normal_memory /sys/devices/system/node/has_cpu
ls /sys/firmware/memmap
cat /sys/firmware/memmap/7/start /sys/firmware/memmap/7/end /sys/firmware/memmap/7/type
pageflags
pageflags --2015
page 0x0
page 0x1
page 0x100
page 0x3000
help
