# zonedev run -m 2G
# test_hmm (lib/test_hmm.c): two devices with 256 MiB of device-private memory each.
dmesg -C
modprobe test_hmm
dmesg
cat /proc/iomem
ls /dev
# A process writes text into an anonymous buffer; MIGRATE moves it to the device.
hmm-demo start Hello, device memory!
hmm-demo migrate 100
page 0x3ffffffff
cat /proc/100/smaps
# rmmod is refused while the process has /dev/hmm_dmirror0 open.
rmmod test_hmm
# A CPU read faults: migrate_to_ram() copies the page back to system RAM.
hmm-demo read 100
# Again to the device; this time migrate_to_ram() fails and the process gets SIGBUS.
hmm-demo migrate 100
hmm-demo fail-next
hmm-demo read 100
ls /proc/100
# A process that closed the device but left a page on it: memunmap_pages() would wait for that page.
hmm-demo start Still on the device
hmm-demo migrate 101
hmm-demo close 101
rmmod test_hmm
hmm-demo exit 101
rmmod test_hmm
cat /proc/iomem
ls /dev
modprobe test_hmm
modprobe --first-time test_hmm
modprobe foo
rmmod foo
