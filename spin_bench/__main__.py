from spin_bench.cli import main

raise SystemExit(main())
