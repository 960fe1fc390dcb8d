from guide_app.app import main

raise SystemExit(main())
