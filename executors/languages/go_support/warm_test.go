package main

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Compiled once by prepare() so that the shared build cache holds the standard library, testify and the vet
// analysis facts every HumanEvalPack Go program needs.
func TestWarm(t *testing.T) {
	assert := assert.New(t)
	values := []int{3, 1, 2}
	sort.Ints(values)
	assert.Equal([]int{1, 2, 3}, values)
	assert.Equal("1", strconv.Itoa(1))
	assert.True(strings.HasPrefix(fmt.Sprintf("%d", 12), "1"))
	assert.Equal(2.0, math.Sqrt(4))
	assert.NotNil(rand.New(rand.NewSource(1)))
	assert.True(regexp.MustCompile("a+").MatchString("aa"))
	assert.Equal(16, len(md5.New().Sum(nil)))
	assert.True(bytes.Equal([]byte("a"), []byte("a")))
	assert.True(time.Second > 0)
}
