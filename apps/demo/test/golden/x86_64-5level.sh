# zonedev run --mmu 5level -m 64G --seed 7
# 5-level paging (52 physical bits), and 64 GiB of boot memory: 1 GiB memory blocks.
dmesg
lsmem
page 0x1000
pageflags
cat /proc/meminfo
echo 0x8000000000000 > /sys/devices/system/memory/probe
echo 0x10000000000000 > /sys/devices/system/memory/probe
lsmem
dmesg -c
