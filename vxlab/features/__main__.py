from vxlab.features import main

main()
