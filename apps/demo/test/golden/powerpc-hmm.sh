# zonedev run --platform powerpc -m 2G
# test_hmm on the hash MMU: the chunks at the top of the 51-bit physical space, 64 KiB struct pages.
modprobe test_hmm
cat /proc/iomem
ls /dev
page 0x7ffffe000
hmm-demo start Hello
hmm-tests
rmmod test_hmm
cat /proc/iomem
