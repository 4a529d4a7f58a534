"""A small sync program: a countdown that sleeps, and a pure helper that must stay sync."""
import time
from time import sleep as nap


def tick(n):
    time.sleep(0.01)
    return n - 1


def countdown(start):
    steps = []
    n = start
    while n > 0:
        steps.append(n)
        n = tick(n)
    return steps


def describe(steps):
    # Pure: stays a plain function.
    return " ".join(str(s) for s in steps)


def main():
    for name, start in [("alpha", 3), ("beta", 2)]:
        print(name, describe(countdown(start)))
    nap(0.01)
    print("done", sum(tick(n) for n in range(3)))


if __name__ == "__main__":
    main()
