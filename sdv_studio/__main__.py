from sdv_studio.cli import main

raise SystemExit(main())
