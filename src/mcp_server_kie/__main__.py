from mcp_server_kie.server.cli import main

if __name__ == "__main__":
    main()
