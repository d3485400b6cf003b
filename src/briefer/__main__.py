from briefer.cli import main

main()
