"""`python -m scripts.demo_data`: regenerate the demo landing folder."""

from scripts.demo_data.generate import main

raise SystemExit(main())
