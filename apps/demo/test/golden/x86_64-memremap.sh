# zonedev run -m 4G --cmdline 'memmap=2G!4G'
# memremap_pages(): the legacy pmem as fsdax and device DAX, p2pdma, device-private memory.
# The pmem driver holds the legacy range from boot; unbinding it leaves the range to memremap.
cat /proc/iomem
ndctl disable-namespace all
cat /proc/iomem
memremap
trace on
memremap -t fsdax -a 0x100000000 256M
trace off
trace show
trace clear
memremap -t generic 0x110000000 128M
memremap -t p2pdma 0x118000000 2M
memremap -t private 1G
memremap
cat /proc/iomem
cat /proc/zoneinfo
page 0x100000
page 0x100002
page 0x100600
page 0x110000
page 0x118000
page 0x3fffc0000
memremap -t fsdax 0x100000000 128M
memremap -t fsdax 0x11f000000 32M
trace on
memunmap pgmap1
trace off
trace show
memunmap 0x100000000
memunmap pgmap2
memunmap pgmap3
memremap
cat /proc/iomem
page 0x100600
memremap -t fsdax -a 0x140000000 1G
cat /proc/meminfo
dmesg
