from silentpartner.cli import main

raise SystemExit(main())
