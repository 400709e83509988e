"""A light app: no dependencies, counts and stays up."""
import time


def main() -> None:
    n = 0
    while True:
        n += 1
        print("tick", n, flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
