#!/bin/sh
echo "placeholder"
mkdir -p "$1"
