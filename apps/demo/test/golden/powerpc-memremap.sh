# zonedev run --platform powerpc -m 2G
# memremap_pages() on powerpc hash: 16 MiB vmemmap pages; device-private memory at the top.
dmesg
lsmem
trace on
memremap -t private 64M
trace off
trace show
memremap -t generic -a 0x100000000 256M
memremap
page 0x10000
page 0x10100
cat /proc/iomem
memunmap pgmap0
memunmap pgmap1
cat /proc/iomem
